"""How alike two people's names are, as a coordinator would judge them.

A coordinator reading "Smith, Jon" on a new referral thinks of the "John Smith" the panel
heard last spring. So names are compared the way she reads them, not letter by letter:

- **The same name however it is written**: order ("Smith, John"), punctuation, case,
  accents ("Zoë" and "Zoe") and titles ("Mr", "Dr") do not matter (`name_tokens`).
- **Familiar forms**: "Bill" is "William", "Jon" is "John" (a short table of English
  diminutives and spellings, `FAMILIAR`).
- **Slips of the keyboard**: a letter missed, doubled, swapped or mistyped ("Jonh",
  "Smtih"). Each part is scored with Jaro-Winkler (rapidfuzz), which forgives these and
  weighs the start of a name most; parts are paired in the order that fits best.
- **A middle name more or less**: "John Paul Smith" and "John Smith" share every part of the
  shorter name.

`likeness` gives a score between 0 and 1 and the reason in words. It judges names only;
whether two subjects are the same person also needs a blocking key (a date of birth, a
postcode): see bot/domain/matching.py.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler

# Words that are no part of who someone is.
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "lady", "lord", "fr"}
)
SUFFIXES = frozenset({"jr", "jnr", "sr", "snr", "ii", "iii"})

# English diminutives and other spellings of one given name, each group one name.
_FAMILIAR_GROUPS = (
    "john jon jonny johnny jack",
    "jonathan jon jonny jonty",
    "william will bill billy liam willy",
    "robert rob bob bobby robbie bert",
    "richard rich rick ricky dick",
    "james jim jimmy jamie",
    "michael mike mick mickey mikey",
    "thomas tom tommy",
    "christopher chris kit",
    "christine chris chrissie tina",
    "daniel dan danny",
    "david dave davey",
    "edward ed eddie ted teddy ned",
    "anthony tony ant",
    "andrew andy drew",
    "alexander alex alec sandy",
    "alexandra alex lexi sandra",
    "benjamin ben benny",
    "charles charlie chas chuck",
    "frederick fred freddie",
    "henry harry hal",
    "joseph joe joey",
    "kenneth ken kenny",
    "lawrence laurence larry laurie",
    "matthew matt matty",
    "nicholas nick nicky",
    "patrick pat paddy",
    "peter pete",
    "philip phillip phil",
    "raymond ray",
    "samuel sam sammy",
    "stephen steven steve stevie",
    "timothy tim timmy",
    "terence terrence terry",
    "vincent vince vinny",
    "zachary zack zak",
    "callum calum cal",
    "mohammed muhammad mohammad mohamed muhammed mo",
    "elizabeth liz lizzie beth betty eliza libby",
    "margaret maggie meg peggy marge",
    "catherine katherine kathryn kate katie cathy kathy kat",
    "susan sue suzie susie",
    "jennifer jen jenny",
    "rebecca becky becca",
    "deborah debra debbie deb",
    "patricia pat patsy trish",
    "victoria vicky tori",
    "samantha sam sammy",
    "jessica jess jessie",
    "abigail abi abby gail",
    "amanda mandy",
    "barbara barb babs",
    "dorothy dot dottie",
    "eleanor ellie nell nora",
    "helen helena nell",
    "josephine jo josie",
    "joanne joanna jo",
    "kimberley kimberly kim",
    "natasha tasha",
    "nicola nicky nikki",
    "pamela pam",
    "sarah sara sally",
    "teresa theresa tess terri",
    "zoe zoey",
)


def _familiar() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in _FAMILIAR_GROUPS:
        names = group.split()
        for name in names:
            table.setdefault(name, set()).update(names)
    return {name: frozenset(forms) for name, forms in table.items()}


FAMILIAR: dict[str, frozenset[str]] = _familiar()

# A part scored at least this alike is taken for the same part mistyped.
PART_TYPO = 0.88


def name_tokens(name: str) -> tuple[str, ...]:
    """The parts of a name as written in any order: given names first, family name last.

    "Smith, John" and "Mr JOHN SMITH" both give ("john", "smith"); accents, punctuation,
    titles and suffixes go. A hyphenated or apostrophised part stays one part ("O'Neil" →
    "oneil", "Smith-Jones" → "smithjones").
    """
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    if "," in letters:
        family, _, given = letters.partition(",")
        letters = f"{given} {family}"
    letters = re.sub(r"['’\-]", "", letters)
    parts = re.sub(r"[^a-z ]+", " ", letters).split()
    return tuple(p for p in parts if p not in TITLES and p not in SUFFIXES)


@dataclass(frozen=True)
class Likeness:
    """How alike two names are (0 to 1) and why, in the coordinator's words."""

    score: float
    reason: str

    @property
    def exact(self) -> bool:
        return self.score >= 1.0


NOT_ALIKE = Likeness(0.0, "different names")


def _part(a: str, b: str) -> tuple[float, str]:
    """How alike two parts of names are, and what kind of likeness it is."""
    if a == b:
        return 1.0, "same"
    if b in FAMILIAR.get(a, ()):
        return 0.95, "familiar"
    if len(a) == 1 or len(b) == 1:  # an initial
        return (0.9, "initial") if a[0] == b[0] else (0.0, "different")
    return JaroWinkler.similarity(a, b), "spelt"


def likeness(first: str, second: str) -> Likeness:
    """How alike two names are, read as a coordinator would (see the module's docstring)."""
    a, b = name_tokens(first), name_tokens(second)
    if not a or not b:
        return NOT_ALIKE
    if a == b:
        return Likeness(1.0, "same name")
    if sorted(a) == sorted(b):
        return Likeness(1.0, "same name, written in another order")
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    best: tuple[float, list[str]] = (0.0, [])
    # Pair each part of the shorter name with a different part of the longer one, in the
    # order that fits best (names have few parts: at most a handful of pairings).
    for chosen in itertools.permutations(range(len(long_)), len(short)):
        scores = [_part(short[i], long_[j]) for i, j in enumerate(chosen)]
        worst = min(score for score, _ in scores)
        mean = sum(score for score, _ in scores) / len(scores)
        # A chain is as strong as its weakest part: one part unlike the other is another person.
        value = 0.5 * worst + 0.5 * mean
        if value > best[0]:
            best = (value, [kind for _, kind in scores])
    score, kinds = best
    if len(short) < len(long_):
        # A middle name more or less: a little less sure than the same parts.
        score *= 0.97
    return Likeness(round(min(score, 0.99), 3), _reason(kinds, len(short) < len(long_)))


def _reason(kinds: list[str], fewer_parts: bool) -> str:
    said = []
    if "familiar" in kinds:
        said.append("a familiar form of a first name")
    if "spelt" in kinds:
        said.append("spelt differently")
    if "initial" in kinds:
        said.append("an initial for a name")
    if fewer_parts:
        said.append("a name more or less")
    return ", ".join(said) if said else "same name"

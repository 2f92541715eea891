"""How well repeats are found: precision and recall of subject matching on an invented set.

`python -m bot bench matching [--json]` builds a set of subject pairs (every name, date and
postcode invented, drawn from a fixed seed so every run judges the same set) and asks the
domain's rule (bot/domain/matching.resemblance) whether each pair is one person:

- **the same person written differently**: names in another order ("Smith, John"), with a
  title or accents, a familiar form ("Bill" for "William"), a slip of the keyboard (a letter
  missed, doubled, swapped or mistyped), a middle name more or less, an initial, the earlier
  referral's alias, two slips at once, the date of birth with day and month swapped, a year of
  birth mistyped at the same address, or no date of birth on one side but the same postcode;
- **strangers who look alike**: relatives at one address (one family name, another first
  name, or a first name a letter or two apart: "Paul" and "Paula"), people born the same day
  with the same family name, people of the same name born on other days, the same name at
  another postcode with no date of birth, strangers born the same day.

It prints recall (the share of same-person pairs found) and precision (the share of pairs
found that are the same person), per kind of pair too, so a change to the rule shows where
it gains and loses. Aim: recall >= 0.95 with precision >= 0.8 (issue 15).
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.matching import resemblance
from bot.domain.names import FAMILIAR
from bot.domain.referral import Subject, SubjectRole

SEED = 20261203
PAIRS_PER_KIND = 16

FIRST_NAMES = (
    "William",
    "Robert",
    "Richard",
    "James",
    "Michael",
    "Thomas",
    "Christopher",
    "Daniel",
    "David",
    "Edward",
    "Anthony",
    "Andrew",
    "Benjamin",
    "Charles",
    "Joseph",
    "Matthew",
    "Nicholas",
    "Samuel",
    "Stephen",
    "Elizabeth",
    "Margaret",
    "Catherine",
    "Susan",
    "Jennifer",
    "Rebecca",
    "Victoria",
    "Jessica",
    "Abigail",
    "Eleanor",
    "Natasha",
    "Amira",
    "Olumide",
    "Priyanka",
    "Tomasz",
    "Agnieszka",
    "Siobhan",
    "Declan",
    "Fatima",
    "Yusuf",
    "Grace",
    "Hannah",
    "Imogen",
    "Kwame",
    "Leanne",
    "Marcus",
    "Nadia",
    "Oliver",
    "Paulina",
    "Ravi",
    "Shona",
    "Tariq",
    "Uchenna",
    "Wendy",
    "Xavier",
    "Yasmin",
    "Zainab",
)
FAMILY_NAMES = (
    "Ashworth",
    "Brennan",
    "Castellano",
    "Dunmore",
    "Efemini",
    "Fairclough",
    "Gallagher",
    "Hartigan",
    "Ibekwe",
    "Jablonski",
    "Kowalczyk",
    "Lindqvist",
    "Mahmoud",
    "Nwachukwu",
    "Okonkwo",
    "Pemberton",
    "Quayle",
    "Rasmussen",
    "Sutcliffe",
    "Tennant",
    "Underhill",
    "Varga",
    "Whitlock",
    "Yilmaz",
    "Zielinski",
    "Abernethy",
    "Blackwood",
    "Cartwright",
    "Delacroix",
    "Ellingham",
    "Fitzgerald",
    "Greenhalgh",
    "Holloway",
    "Iqbal",
    "Jeffries",
    "Kavanagh",
    "Loughran",
    "McAllister",
    "Northcott",
    "Osei",
    "Penhaligon",
    "Radcliffe",
)
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Mx")
ACCENTED = {"e": "é", "a": "à", "o": "ö", "u": "ü", "i": "ï", "c": "ç", "n": "ñ"}
# First names of two people a letter or two apart: brother and sister, say.
LOOK_ALIKE_FIRST_NAMES = (
    ("Daniel", "Danielle"),
    ("Paul", "Paula"),
    ("Louis", "Louise"),
    ("Francis", "Frances"),
    ("Adrian", "Adriana"),
    ("Eric", "Erica"),
    ("Carl", "Carla"),
    ("Joan", "John"),
)
INVENTED_POSTCODES = tuple(
    f"RV{n} {d}{a}{b}" for n in range(1, 10) for d in "123" for a, b in ("AB", "CD", "EF")
)


@dataclass(frozen=True)
class Pair:
    """Two subjects, whether they are one person, and how the pair was made."""

    kind: str
    new: Subject
    earlier: Subject
    same: bool


def _subject(
    name: str, born: date | None, postcode: str | None, aliases: tuple[str, ...] = ()
) -> Subject:
    return Subject(
        role=SubjectRole.PERPETRATOR,
        name=name,
        aliases=aliases,
        date_of_birth=born,
        postcode=postcode,
    )


class _Maker:
    """Draws invented people and their variants from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311  (an invented data set, not secrets)

    def born(self) -> date:
        return date(1950, 1, 1) + timedelta(days=self.rng.randrange(0, 365 * 55))

    def postcode(self) -> str:
        return self.rng.choice(INVENTED_POSTCODES)

    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(FAMILY_NAMES)

    def typo(self, word: str) -> str:
        """One slip of the keyboard in a word of four letters or more, never the first."""
        i = self.rng.randrange(1, len(word) - 1)
        match self.rng.choice(("miss", "double", "swap", "wrong")):
            case "miss":
                return word[:i] + word[i + 1 :]
            case "double":
                return word[:i] + word[i] + word[i:]
            case "swap":
                return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            case _:
                wrong = self.rng.choice([c for c in string.ascii_lowercase if c != word[i]])
                return word[:i] + wrong + word[i + 1 :]

    def familiar(self, first: str) -> str | None:
        forms = sorted(FAMILIAR.get(first.lower(), frozenset()) - {first.lower()})
        return self.rng.choice(forms).capitalize() if forms else None

    def other_first(self, first: str) -> str:
        """A different first name that is not a form of this one."""
        forms = FAMILIAR.get(first.lower(), frozenset({first.lower()}))
        while True:
            other = self.rng.choice(FIRST_NAMES)
            if other.lower() not in forms and other != first:
                return other


def evaluation_set(seed: int = SEED, per_kind: int = PAIRS_PER_KIND) -> list[Pair]:
    """The invented pairs, `per_kind` of each kind (see the module's docstring)."""
    make = _Maker(seed)
    pairs: list[Pair] = []

    def add(kind: str, same: bool, new: Subject, earlier: Subject) -> None:
        pairs.append(Pair(kind, new, earlier, same))

    for _ in range(per_kind):
        first, family = make.person()
        born, postcode = make.born(), make.postcode()
        earlier = _subject(f"{first} {family}", born, postcode)
        add("same name", True, _subject(f"{first} {family}", born, None), earlier)
        add("family name first", True, _subject(f"{family.upper()}, {first}", born, None), earlier)
        accented = "".join(ACCENTED.get(c, c) if make.rng.random() < 0.3 else c for c in first)
        title = make.rng.choice(TITLES)
        add(
            "title and accents", True, _subject(f"{title} {accented} {family}", born, None), earlier
        )
        familiar = make.familiar(first) or first
        add("familiar form", True, _subject(f"{familiar} {family}", born, None), earlier)
        typo_first = make.rng.random() < 0.5
        typed = f"{make.typo(first)} {family}" if typo_first else f"{first} {make.typo(family)}"
        add("slip of the keyboard", True, _subject(typed, born, postcode), earlier)
        middle = make.rng.choice(FIRST_NAMES)
        add("middle name", True, _subject(f"{first} {middle} {family}", born, None), earlier)
        add("initial", True, _subject(f"{first[0]}. {family}", born, None), earlier)
        alias_first, alias_family = make.person()
        with_alias = _subject(
            f"{first} {family}", born, postcode, aliases=(f"{alias_first} {alias_family}",)
        )
        add("alias", True, _subject(f"{alias_first} {alias_family}", born, None), with_alias)
        early = born.replace(day=make.rng.randrange(1, 13))
        if early.day == early.month:
            early = early.replace(day=early.day % 12 + 1)
        swapped = early.replace(month=early.day, day=early.month)
        add(
            "day and month swapped",
            True,
            _subject(f"{first} {family}", swapped, None),
            _subject(f"{first} {family}", early, postcode),
        )
        add("postcode only", True, _subject(f"{family}, {first}", None, postcode), earlier)
        both = f"{make.typo(first) if len(first) > 3 else first} {make.typo(family)}"
        add("two slips", True, _subject(both, born, None), earlier)
        year = str(born.year)
        digit = make.rng.choice([d for d in "0123456789" if d != year[3]])
        mistyped = born.replace(year=int(year[:3] + digit)) if born.day != 29 else born
        add(
            "year mistyped, same address",
            True,
            _subject(f"{first} {family}", mistyped, postcode),
            earlier,
        )

        # Strangers who look alike.
        relative = make.other_first(first)
        add(
            "relative at the address",
            False,
            _subject(f"{relative} {family}", None, postcode),
            earlier,
        )
        same_day = _subject(f"{make.other_first(first)} {family}", born, None)
        add("same family name, same birthday", False, same_day, earlier)
        other_born = born + timedelta(days=make.rng.randrange(40, 4000))
        add(
            "same name, another birthday",
            False,
            _subject(f"{first} {family}", other_born, None),
            earlier,
        )
        add(
            "same name elsewhere",
            False,
            _subject(f"{first} {family}", None, make.postcode().replace("RV", "RW")),
            earlier,
        )
        sibling, look_alike = make.rng.choice(LOOK_ALIKE_FIRST_NAMES)
        add(
            "look-alike sibling at the address",
            False,
            _subject(f"{sibling} {family}", None, postcode),
            _subject(f"{look_alike} {family}", born, postcode),
        )
        other_first, other_family = make.person()
        add(
            "stranger born the same day",
            False,
            _subject(f"{other_first} {other_family}", born, None),
            earlier,
        )
    return pairs


@dataclass(frozen=True)
class Score:
    """What the rule found on a set of pairs."""

    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int
    missed: Counter[str]
    wrongly_matched: Counter[str]

    @property
    def recall(self) -> float:
        found = self.true_positive + self.false_negative
        return self.true_positive / found if found else 1.0

    @property
    def precision(self) -> float:
        said = self.true_positive + self.false_positive
        return self.true_positive / said if said else 1.0


def evaluate(pairs: list[Pair]) -> Score:
    """Ask the domain's rule about every pair and count what it got right."""
    tp = fp = fn = tn = 0
    missed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for pair in pairs:
        said = resemblance(pair.new, pair.earlier) is not None
        if said and pair.same:
            tp += 1
        elif said:
            fp += 1
            wrong[pair.kind] += 1
        elif pair.same:
            fn += 1
            missed[pair.kind] += 1
        else:
            tn += 1
    return Score(tp, fp, fn, tn, missed, wrong)


def figures(seed: int = SEED) -> dict[str, float]:
    """The bench's keys: `matching_recall`, `matching_precision` and the set's size."""
    pairs = evaluation_set(seed)
    score = evaluate(pairs)
    return {
        "matching_pairs": float(len(pairs)),
        "matching_recall": round(score.recall, 3),
        "matching_precision": round(score.precision, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot bench matching", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    pairs = evaluation_set(args.seed)
    score = evaluate(pairs)
    keys = figures(args.seed)
    if args.json:
        print(json.dumps(keys, sort_keys=True))
        return 0
    same = sum(p.same for p in pairs)
    print(f"{len(pairs)} invented pairs: {same} of one person, {len(pairs) - same} of two")
    print(f"recall    {score.recall:.3f}  (aim >= 0.95)")
    print(f"precision {score.precision:.3f}  (aim >= 0.80)")
    for kind, count in sorted(score.missed.items()):
        print(f"  missed {count:3d}  {kind}")
    for kind, count in sorted(score.wrongly_matched.items()):
        print(f"  wrong  {count:3d}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Delivers queued cards (the outbox) through the Bot Connector, within Teams' limits.

Services queue rows in the same unit of work as the change they report; this dispatcher
claims due rows, sends each to its conversation, and records the outcome.

- **Claiming.** A claim marks rows SENDING, stamps `claimed_at` and commits in the very
  transaction that selected them, so dispatchers in several processes share the rows and
  never take the same one. SQLite is the embedded default for one instance: one dispatcher
  runs, and it needs none of the coordination below.
- **Lanes across instances (PostgreSQL).** A conversation belongs to one instance at a time.
  Each row carries its lane (OutgoingDelivery.lane: the member's 1:1 chat, or the
  conversation), and `outbox_lanes` says which instance holds a lane until when. A claim
  takes due rows, oldest first, only of the lanes this dispatcher holds or can take (nobody
  holds it or its lease ran out, and none of its rows is SENDING), and leases them in the
  same transaction (`claim_due`); a lane's rows are claimed only by whoever holds its lease
  row, so they go out in order, and per-conversation windows are counted by one pacer. The
  leases of lanes with rows in flight are renewed every quarter of `lane_lease` (20 s), and
  those of empty lanes let go (and all of them when the dispatcher stops). A killed
  instance's lanes come free when their leases run out, or, for a lane with a row left
  SENDING, once that row is taken back after the row lease.
- **History follows the lane.** An instance taking a lane loads the conversation's sends of
  the longest window (an hour: `sent_at` of its SENT rows) into its pacer
  (`Pacer.remember`), so 60/30 s and 1,800/h hold when a conversation moves between
  instances.
- **One tenant budget.** Every request takes the tenant's next turn from one row per tenant
  in `outbox_tenant_pace` (bot.teams.outbox.budget): turns are spaced a little wider than
  TEAMS_RATE_PER_TENANT allows, which is the tenant's total across instances, and read on
  the host's wall clock (hosts kept in time by NTP agree to milliseconds). A request that
  missed its turn by more than 20 ms takes another while other instances send too (alone,
  it goes: its own pacer counts it until its answer). On SQLite the dispatcher's own pacer
  holds the tenant's limit.
- **Lease.** A dispatcher finishes, retries or hands back every row within half the lease of
  claiming it. Rows still SENDING after a whole lease belonged to a dispatcher that stopped:
  they go back to the queue (at start, then once per lease) and are counted in the row's
  `resumed` and in `stats.resumed`. Only those among them already on the wire when the
  process died can arrive twice. Outcomes are written only while the row is still ours (same
  `resumed` count), so a late writer cannot undo another dispatcher's work.
- **Pacing.** Before each request the dispatcher waits for room in the conversation's and the
  tenant's sliding windows (bot.teams.ratelimit), which also spreads sends evenly; one
  conversation's rows go out in order, one at a time, and different conversations go
  concurrently, at most `concurrency` requests at once.
- **Failures.** What each answer means is one rule, `bot.domain.delivery.verdict`. 429
  waits Retry-After (seconds or an HTTP date) and holds the conversation; 412, 502, 503,
  504, network errors and timeouts back off exponentially with jitter; a wait that does not
  fit the lease sends the row back to the queue until then. 403 (blocked by the user,
  disabled by the admin) stops: the row is UNREACHABLE and the panel's coordinators are
  told, once a day at most. 404 (conversation not found) forgets the reference; for a
  member it opens a new 1:1 chat and sends again. A member with no chat yet gets one
  (`create_conversation`).
- **Timeouts.** A send that times out may still have reached Teams; it is retried (a post is
  not idempotent), and `stats.timeouts` counts these possible duplicates.
- **Recording.** Outcomes that finish together are written in one transaction (SQLite has one
  writer; group commits keep it from becoming the bottleneck). A row sent but whose outcome
  cannot be written stays SENDING, to be resumed and counted, rather than sent again unseen.
- **Updates.** A sent row remembers the message Teams made of it (`activity_id`, in
  `conversation_id`). A row whose payload says `update_of` (another row's id) puts its card
  over that message (`update_activity`) instead of posting a new one: it waits while the
  earlier row is still to be sent, and is dropped (recorded as sent, status 204) when that
  row never reached anyone or its chat is forgotten. A 404 on an update means the message
  is gone: the row is given up, and the chat is neither forgotten nor opened again.
- **Files.** A row's payload is a card and its text, or (bot.kernel.notify) a file consent
  card offering a file, or the card Teams shows for a file saved in the member's OneDrive;
  bot.teams.replies.payload_activity makes each into its Teams attachment, and an update
  row may put a card over a file consent card once it is answered.
- **What is not shared.** A 429's Retry-After holds a conversation in the pacer of the
  instance that got it; a lane that moves meanwhile does not carry the hold (the history
  it carries keeps the windows).

Who does what: `OutboxDispatcher` (dispatcher.py) runs the loops; `Claims` claims rows,
keeps and lets go of lanes, and takes back abandoned ones; `TenantBudget` (budget.py) hands
out the tenant's turns; `Targets` finds where each goes; `Lanes` keep one conversation's
rows in order; a `Courier` takes one row through pacing (bot.teams.ratelimit), requests and
retries; the `Connector` makes the requests over HTTP; `Chats` opens and forgets 1:1 chats;
`Outcomes` writes down what became of each row; `notice` tells the coordinators about a
member who cannot be reached. `DeliveryPolicy` and `DeliveryStats` are in policy.py.
"""

from bot.teams.outbox.connector import Answer
from bot.teams.outbox.dispatcher import OutboxDispatcher
from bot.teams.outbox.policy import DeliveryPolicy, DeliveryStats

__all__ = ["Answer", "DeliveryPolicy", "DeliveryStats", "OutboxDispatcher"]

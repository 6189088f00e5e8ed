"""The terminal tests' reader (`held_terminal.Drawn`): text drawn before never changes as
more is read, whichever byte a read ends on (a step's offset into it stays put)."""

from __future__ import annotations

from held_terminal import Drawn

# A bar's redraw as rich writes it: escapes, a 3-byte '━', a count, a carriage return.
REDRAW = "\x1b[?25l\x1b[2K\x1b[1mjob 1/2: the target\x1b[0m ━━━ 3/10\r".encode()


def test_what_was_drawn_stays_put_whichever_byte_a_read_ends_on() -> None:
    whole = Drawn()
    whole.add(REDRAW * 2, final=True)
    assert whole.text == "job 1/2: the target ━━━ 3/10\n" * 2
    for cut in range(1, len(REDRAW) * 2):
        drawn = Drawn()
        drawn.add((REDRAW * 2)[:cut])
        before = drawn.text
        assert "\ufffd" not in before and "[" not in before, (cut, before)  # nothing half
        drawn.add((REDRAW * 2)[cut:], final=True)
        assert drawn.text.startswith(before) and drawn.text == whole.text, cut

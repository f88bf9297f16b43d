"""Text a terminal would act on (escapes, controls, bidi overrides, markup), and a pattern
that finds any of it left in what is shown."""

import re

HOSTILE_TERMINAL = (
    "\x1b[31mRED\x1b[0m \x1b]0;pwned\x07title \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ "
    "\x9b2Jclear \u202eevil\u202c \u2066iso\u2069 \u200eltr\u200f \u061calm "
    "bell\x07 nul\x00 del\x7f tab\tnew\nline [/x] [bold]markup[/bold]"
)
UNSAFE_ON_A_TERMINAL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

"""Untrusted text (customer, product, earlier model output) made safe to put inside a tag."""

TAG_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a"})
"""Angle brackets become single guillemets, which look alike but close no tag."""


def as_data(text: str) -> str:
    """`text` unable to open or close a tag: a `</customer>` inside it stays inert."""
    return text.translate(TAG_LOOKALIKES)

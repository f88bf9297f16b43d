"""The browser app that `codreamer serve` serves at `/app/`: plain HTML, CSS and JS modules."""

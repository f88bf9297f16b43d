"""The `codreamer` command's modules, one per command group; `cli.py` assembles the app.

Only typer, rich and the standard library load with them: each command imports the (heavy)
modules it needs when it runs."""

"""Example submission (hostile): copies a classmate's work, and leaves a file behind."""

import pathlib

here = pathlib.Path(__file__).resolve().parent
for place in (here.parent / "ada.py", pathlib.Path("/tmp/ada.py"), pathlib.Path.home() / "ada.py"):
    try:
        exec(place.read_text())
        break
    except OSError:
        pass
pathlib.Path("/tmp/eve-was-here").write_text("hello")

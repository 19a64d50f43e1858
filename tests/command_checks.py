"""A check shared by the tests of the commands that write a chapter's committed results."""

import pytest


def assert_refused_before_work(main, argv, message, out, capsys):
    """``main(argv)`` stops with ``message`` (an exception or argparse's error) and writes nothing to ``out``."""
    with pytest.raises((SystemExit, ValueError)) as error:
        main(argv)
    assert message in str(error.value) + capsys.readouterr().err
    assert not out.exists()

"""Root pytest configuration, shared by the unit tests and the nbval notebook runs."""

from nbval.kernel import RunningKernel


def _execute_like_jupyter(self, cell_input, allow_stdin=None):
    """Run a cell as Jupyter does, with ``store_history=True``.

    nbval sends cells with ``store_history=False``, and IPython then ignores a
    trailing ``;``, so a plotting cell ending in ``ax.legend(...);`` would print
    ``<matplotlib.legend.Legend at 0x...>`` under nbval but not in Jupyter. The
    book writes plotting cells the Jupyter way, so nbval must run them that way.
    """
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


RunningKernel.execute_cell_input = _execute_like_jupyter
collect_ignore_glob = ["_build/*", ".venv/*", "node_modules/*"]

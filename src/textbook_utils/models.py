"""Old name of :mod:`textbook_utils.mlp`, kept only so that older imports work.

``from textbook_utils.models import MLP`` still works; new code imports
``from textbook_utils.mlp import MLP``. Remove this file once no chapter or
module imports it.
"""

from .mlp import ACTIVATIONS, MLP

__all__ = ["ACTIVATIONS", "MLP"]

"""Figures: plotting, the widget explorers and the timeline.

- :mod:`.plotting` -- the book's figures;
- :mod:`.widgets` -- the interactive explorers;
- :mod:`.timeline` -- the milestones of the Orientation part.
"""

"""The Textual app of desk (`desk play`): panes, screens and the bridge to the runner.

Only this package (and `desk.commands.play`) imports Textual; the engine never does.
"""

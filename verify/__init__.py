"""``python -m verify``: run every registered claim, print the verdict table, write the reports.

Modules: ``cli`` (``main(argv) -> int``), ``runner`` (runs claims), ``report`` (the canonical JSON),
``render`` (terminal table and Markdown).
"""

"""A reader's program judged by this puzzle's rules, as a linter's rules are written: each rule a
small function with its name, the lines it rests on, what it saw and why it matters, and its fix
as an edit of the reader's own lines (rule.py); the rules in three families (output.py,
scaling.py, rate.py), the verdict (verdict.py) and the nearest view the app can train (setup.py)."""

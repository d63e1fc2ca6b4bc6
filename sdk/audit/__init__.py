"""``procurement audit``: an outsider's verifier of every procedure, from public data alone.

It reads only public routes (or a directory of their saved answers) and the documented
formats, and recomputes each decided lot's award from the published rules.
"""

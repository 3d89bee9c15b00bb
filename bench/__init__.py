"""Throughput and latency of the CMS against a ceiling and a floor: `python -m bench.run`.

Lives outside `cms/` on purpose: nothing here ships in the wheel, and nothing in `cms/` imports it.
"""

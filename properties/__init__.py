"""Claims of [LCG24] and [AW26] as properties, their Hypothesis strategies, and the claim registry.

``properties.catalog.load_claims()`` returns the registry; ``properties.engine.run_claim`` runs one
claim; ``properties.faults`` holds the planted faults the suite must catch.
"""

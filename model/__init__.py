"""The compact model of [LCG24] and its exact references (see THEORY.md S1-S8).

Modules: ``errors`` (exception hierarchy), ``prompt`` (validated prompts and label spaces),
``attention`` (embedding S1, layer S2, family S8, initialisation S6), ``nearest`` (1-NN rule S3,
tie rule, A_delta margin), ``laws`` (seeded training law S4).
"""

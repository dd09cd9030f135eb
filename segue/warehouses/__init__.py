"""Warehouses: Segment's table layout loaded into SQL engines.

`catalog` lists the engines Segue can load into and their connection settings (data only: no
drivers, no connections). Naming, schema inference and evolution, and one module per engine
live beside it; drivers for optional engines import lazily and ship in extras.
"""

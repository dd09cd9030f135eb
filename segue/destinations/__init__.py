"""The destination catalog: one module per destination (data plus pure functions).

- `contract`: the values every destination provides (`Destination`, `Request`, settings base).
- `settings`: validate, split secrets, mask, patch and describe a destination's settings.
- `registry`: the catalog loaded from the `segue.destinations` entry point group.
- `common`: helpers shared by the translation modules.
- one module per built-in destination (`webhook`, `amplitude`, `mixpanel`, `slack`, `customerio`).

See docs/destinations.md.
"""

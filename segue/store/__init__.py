"""Config store: models, migrations and the queries the rest of Segue uses."""

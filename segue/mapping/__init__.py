"""Mapping: FQL conditions, mapping-kit directives and Destination Filters (pure functions).

    fql.parse / fql.compile / fql.evaluate / fql.render    Segment's Filter Query Language
    kit.map_event / kit.validate_mapping                   mapping-kit `@` directives
    filters.apply_filters                                  Destination Filters (spec 4.6)
"""

"""Below every layer: errors, argument checks, text, connection states, install
hints, the version and the finder for deprecated module paths.

Imports nothing else of the package (and no event loop).
"""

"""Targets: what a FlowQL filter becomes when it is sent to an API.

- :mod:`flowql.targets.conviva_flow`: the ``filter`` query parameter of the Conviva DPI Flow API
  (``compile_filter``), the filter lowered to the Flow syntax: ``==`` ``!=`` ``~~`` ``!~``,
  ``AND``, ``OR`` and parentheses.
- :mod:`flowql.targets.conviva_sessions`: the ``key=value`` query parameters of Conviva
  Sessions V3 and Metrics V3 (``compile_params``), which can only say "this key is one of these
  values, and that key is one of those".
- :mod:`flowql.targets.klaviyo`: the general Klaviyo filter syntax (``equals``, ``any``,
  ``contains``, ``and``), written (``compile_filter``) and read back (``read_filter``).
- :mod:`flowql.targets.python`: the local evaluator, a predicate over records
  (``compile_predicate``, ``filter_records``), which can express everything.

A target never emits a filter that means something else: what it cannot express it refuses with
:class:`~flowql.errors.UnsupportedError` (FQ601), every problem collected first.
"""

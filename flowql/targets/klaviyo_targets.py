"""The names and descriptions of the Klaviyo endpoint targets, one per endpoint family.

Data only, so that the registry (:mod:`flowql.targets`) can list the targets without loading
their compilers (:mod:`flowql.targets.klaviyo_endpoints`), and the compilers can read the same
list without importing the registry.
"""

from __future__ import annotations

__all__ = ["KLAVIYO_ENDPOINT_TARGETS"]

# One per Klaviyo endpoint family, each with the capability table of its reference page.
KLAVIYO_ENDPOINT_TARGETS = {
    "klaviyo-flow-report": "the filter of Klaviyo's flow values and series reports",
    "klaviyo-campaign-report": "the filter of Klaviyo's campaign values reports",
    "klaviyo-form-report": "the filter of Klaviyo's form values and series reports",
    "klaviyo-segment-report": "the filter of Klaviyo's segment values and series reports",
    "klaviyo-metrics": "the filter of Klaviyo's GET /api/metrics (integration name or category)",
}
"""The Klaviyo endpoint targets and their descriptions (the compilers are in
:mod:`flowql.targets.klaviyo_endpoints`, imported when first used)."""

"""Department exchange use cases: the face of the package (the use cases themselves are being split out of
`feeds_in` along their seams)."""

from liangshi.departments.service.feeds_in import *  # noqa: F403

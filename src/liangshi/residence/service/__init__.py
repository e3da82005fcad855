"""Residence use cases (the face of the package); the modules along its seams follow in the next commit."""

from liangshi.residence.service.lifecycle import *  # noqa: F403
from liangshi.residence.service.lifecycle import RESIDENCE as RESIDENCE

"""Twisted's ``twisted.test`` import paths for its test helpers.

Only the helper modules ported tests import live here (``proto_helpers``, ``iosim``);
both are thin re-exports of ``torsion.internet.testing``, where new code should import
from.
"""

"""torsion.spread: Perspective Broker and its serialisation, wire-compatible with Twisted.

- banana: the byte encoding of s-expressions (with the "pb" vocabulary dialect).
- jelly: object graphs <-> s-expressions, constructing only registered classes.
- flavors: Referenceable, Viewable, Copyable/RemoteCopy, Cacheable/RemoteCache.
- pb: the Broker protocol, RemoteReference.callRemote, PBServerFactory and
  PBClientFactory (with Portal login), Avatar.
- util: paging large data through remote calls (Pager, StringPager, FilePager,
  CallbackPageCollector, getAllPages).
- error: the exception hierarchy.
"""

# moto_server, with two lookups that grow with the emulator's state or convoy on its lock
# done directly. Answers are unchanged; docs/relaxations.md ("Emulator patches") has the
# measurements.
import sys

import moto.backends as backends
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

# 1. moto's WSGI dispatcher takes one global lock per request and, holding it, lists its
# package directory (~150 system calls, each giving up the GIL and winning it back from
# every other busy request thread). The list never changes in a running process.
_modules = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _modules

# 2. An EC2 resource's tags are found by scanning every tag of every resource
# (describe_tags with a resource-id filter), so a DescribeInstances with a tag filter costs
# O(instances x all tags): 595 ms at 500 instances (terminated ones stay listed in moto).
# Read the resource's own entry instead, in describe_tags' shape and order.
_scan_tags = TaggedEC2Resource.get_tags


def _own_tags(self):
    rid = getattr(self, "id", None)
    if not rid or any(c in rid for c in "*?["):  # a pattern: moto matches it as one
        return _scan_tags(self)
    tags = self.ec2_backend.tags.get(rid)  # .get: the store is a defaultdict
    if not tags:
        return []
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(rid), "")
    return [{"resource_id": rid, "key": k, "value": v, "resource_type": kind} for k, v in list(tags.items())]


TaggedEC2Resource.get_tags = _own_tags

from moto.server import main  # noqa: E402  (after the patches, as moto_server imports it)

sys.exit(main(sys.argv[1:]))

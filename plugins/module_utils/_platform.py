# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Which platform a node runs on, from its DMI strings (/sys/class/dmi/id): pure, the reading is _node_commands.

Only what changes the collection's advice is named: Azure does not carry IP-in-IP between VMs at all (Calico's docs,
networking/configuring/vxlan-ipip: "Azure does not support IPIP"), so VXLAN is the encapsulation there. Azure is
told apart from a Hyper-V VM elsewhere (same vendor and product) by the chassis asset tag Azure sets, the test
cloud-init's Azure datasource uses (cloudinit/sources/DataSourceAzure.py, AZURE_CHASSIS_ASSET_TAG)."""

from __future__ import annotations

DMI_FIELDS = ("sys_vendor", "product_name", "chassis_asset_tag")
AZURE_CHASSIS_ASSET_TAG = "7783-7084-3265-9085-8269-3286-77"


def describe_platform(dmi):
    """{sys_vendor, product_name, chassis_asset_tag, cloud}: ``cloud`` is ``azure`` or None (not known to matter)."""
    values = {field: (dmi.get(field) or "").strip() or None for field in DMI_FIELDS}
    values["cloud"] = "azure" if values["chassis_asset_tag"] == AZURE_CHASSIS_ASSET_TAG else None
    return values

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8snet.calico contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: not part of the collection's public API; may change at any time.
"""Whether the platform the nodes run on can carry IPIP at all (node_routes_info's ``platform``). Pure.

Azure does not carry IP-in-IP (IP protocol 4) between VMs, whatever the network security groups say; Calico's docs
(networking/configuring/vxlan-ipip) say to use VXLAN there."""

from __future__ import annotations

AZURE_REFUSAL = (
    "Refusing to enable IPIP: %s run%s on Azure (DMI chassis asset tag), which does not carry IP-in-IP (IP protocol "
    "4) between VMs, so IPIP would not carry the pods' traffic at all. Use VXLAN instead (vxlanMode Always or "
    "CrossSubnet on the pools, ipipMode Never; Calico's docs: networking/configuring/vxlan-ipip). Nothing was "
    "written. If the detection is wrong, set ipip_refuse_on_azure: false.")


class CloudInputError(ValueError):
    """Input that is not what the role passes: the message names it."""


def cloud_check(hosts):
    """``{"azure": [hosts on Azure], "message": the refusal, or None}`` from {host: node_routes_info result}."""
    if not isinstance(hosts, dict):
        raise CloudInputError("%r is not a mapping of host to node_routes_info result" % (hosts,))
    azure = sorted(host for host, facts in hosts.items()
                   if isinstance(facts, dict) and isinstance(facts.get("platform"), dict)
                   and facts["platform"].get("cloud") == "azure")
    message = AZURE_REFUSAL % (", ".join(azure), "s" if len(azure) == 1 else "") if azure else None
    return {"azure": azure, "message": message}

"""The platform a node runs on (module_utils/_platform.py, from its DMI strings) and the refusal of IPIP on Azure
(plugin_utils/_cloud.py, filter ipip_cloud_check). The DMI values are what each platform's VMs show in
/sys/class/dmi/id (Azure's chassis asset tag is the one cloud-init's Azure datasource looks for)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.k8snet.calico.plugins.filter.ipip_cloud_check import ipip_cloud_check
from ansible_collections.k8snet.calico.plugins.module_utils._node_commands import read_dmi
from ansible_collections.k8snet.calico.plugins.module_utils._platform import describe_platform

AZURE = {"sys_vendor": "Microsoft Corporation\n", "product_name": "Virtual Machine\n",
         "chassis_asset_tag": "7783-7084-3265-9085-8269-3286-77\n"}
HYPERV = {"sys_vendor": "Microsoft Corporation\n", "product_name": "Virtual Machine\n",
          "chassis_asset_tag": "None\n"}   # a Hyper-V VM outside Azure: same vendor and product
AWS = {"sys_vendor": "Amazon EC2\n", "product_name": "m5.large\n", "chassis_asset_tag": "Amazon EC2\n"}


@pytest.mark.parametrize("dmi, cloud", [(AZURE, "azure"), (HYPERV, None), (AWS, None),
                                        ({"sys_vendor": None, "product_name": None, "chassis_asset_tag": None}, None)])
def test_azure_is_told_by_its_chassis_asset_tag(dmi, cloud):
    platform = describe_platform(dmi)
    assert platform["cloud"] == cloud
    assert platform["sys_vendor"] == (dmi["sys_vendor"].strip() if dmi["sys_vendor"] else None)


def test_dmi_is_read_and_missing_files_are_none(tmp_path):
    (tmp_path / "sys_vendor").write_text("QEMU\n")
    assert read_dmi(str(tmp_path)) == {"sys_vendor": "QEMU\n", "product_name": None, "chassis_asset_tag": None}


def test_ipip_is_refused_on_azure_naming_the_nodes_and_vxlan():
    hosts = {"node1": {"platform": describe_platform(AZURE)}, "node2": {"platform": describe_platform(AZURE)},
             "node3": {"platform": None}, "node4": {"unreachable": True}}
    check = ipip_cloud_check(hosts)
    assert check["azure"] == ["node1", "node2"]
    assert check["message"].startswith("Refusing to enable IPIP: node1, node2 run on Azure")
    assert "VXLAN" in check["message"] and "Nothing was written" in check["message"]
    assert ipip_cloud_check({"node3": {"platform": describe_platform(AWS)}}) == {"azure": [], "message": None}
    with pytest.raises(AnsibleFilterError, match="^ipip_cloud_check: "):
        ipip_cloud_check(["node1"])

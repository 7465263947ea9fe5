"""The repositories Bazel needs to build xnet offline (Debian's bazel-bootstrap
4.2.3: every external repository is local). xnet's WORKSPACE calls it; a
workspace that depends on xnet calls it too, with the path of its xnet
checkout (examples/bazel_consumer/WORKSPACE)."""

def xnet_offline_repositories(xnet_path = "."):
    native.local_repository(
        name = "rules_cc",
        path = xnet_path + "/third_party/rules_cc",
    )
    native.local_repository(
        name = "platforms",
        path = "/usr/share/bazel/tools/platforms",
    )
    native.local_repository(
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )
    native.local_repository(
        name = "remote_coverage_tools",
        path = xnet_path + "/third_party/remote_coverage_tools",
    )

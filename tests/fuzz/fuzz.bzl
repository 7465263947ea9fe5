"""xnet_fuzzer: a libFuzzer target and the test that replays its inputs.

`bazel build --config=fuzz //tests/fuzz:NAME` (clang, see scripts/fuzz.sh)
links NAME with libFuzzer; every other build links the replay main, which
runs each input once. NAME_replay (a cc_test, in CI plain and under
ASan+UBSan) replays the checked-in seeds (corpus/NAME, written by
scripts/fuzz_seeds.sh) and every regression input (regressions/NAME).
"""

def xnet_fuzzer(name, srcs, deps = []):
    inputs = name + "_inputs"
    native.filegroup(
        name = inputs,
        srcs = native.glob(["corpus/" + name + "/**", "regressions/" + name + "/**"]),
    )
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        deps = deps + select({
            ":libfuzzer": [],
            "//conditions:default": [":replay_main"],
        }),
        linkopts = select({
            ":libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )
    native.cc_test(
        name = name + "_replay",
        size = "medium",
        srcs = srcs,
        deps = deps + [":replay_main"],
        data = [":" + inputs],
        args = ["$(locations :" + inputs + ")"],
    )

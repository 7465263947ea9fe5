// The steering object as built by //bpf: opens with libbpf (no privileges
// needed), has the program and the maps userspace looks up by name, with the
// types and sizes bpf/steer_abi.h promises; the embedded copy is the same file.

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "bpf/steer_abi.h"
#include "bpf/xnet_steer_object.h"

namespace {

constexpr const char* kObjectPath = "bpf/xnet_steer.bpf.o";

struct ObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectCloser>;

void expect_map(bpf_object* obj, const char* name, bpf_map_type type, uint32_t max_entries,
                uint32_t key_size, uint32_t value_size) {
  bpf_map* m = bpf_object__find_map_by_name(obj, name);
  ASSERT_NE(m, nullptr) << name;
  EXPECT_EQ(bpf_map__type(m), type) << name;
  EXPECT_EQ(bpf_map__max_entries(m), max_entries) << name;
  EXPECT_EQ(bpf_map__key_size(m), key_size) << name;
  EXPECT_EQ(bpf_map__value_size(m), value_size) << name;
}

void check_object(bpf_object* obj) {
  bpf_program* prog = bpf_object__find_program_by_name(obj, XNET_STEER_PROG_NAME);
  ASSERT_NE(prog, nullptr);
  EXPECT_EQ(bpf_program__type(prog), BPF_PROG_TYPE_XDP);
  EXPECT_STREQ(bpf_program__section_name(prog), "xdp");
  expect_map(obj, XNET_MAP_OWNED, BPF_MAP_TYPE_HASH, XNET_MAX_OWNED, 4, 1);
  expect_map(obj, XNET_MAP_XSKS, BPF_MAP_TYPE_XSKMAP, XNET_MAX_QUEUES, 4, 4);
  expect_map(obj, XNET_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, XNET_STAT_COUNT, 4, 8);
  expect_map(obj, XNET_MAP_CONFIG, BPF_MAP_TYPE_ARRAY, 1, 4, sizeof(xnet_steer_config));
  expect_map(obj, XNET_MAP_UDP_DESTS, BPF_MAP_TYPE_HASH, XNET_MAX_UDP_DESTS, 4, 1);
  expect_map(obj, XNET_MAP_SHARED, BPF_MAP_TYPE_HASH, XNET_MAX_SHARED, 4, 1);
  expect_map(obj, XNET_MAP_PORTS, BPF_MAP_TYPE_HASH, XNET_MAX_PORTS, 2, 1);
  expect_map(obj, XNET_MAP_FRAGS, BPF_MAP_TYPE_LRU_HASH, XNET_MAX_FRAGS, sizeof(xnet_frag_key), 1);
}

TEST(BpfObject, OpensWithProgramAndMaps) {
  ObjectPtr obj(bpf_object__open_file(kObjectPath, nullptr));
  ASSERT_EQ(libbpf_get_error(obj.get()), 0) << "cannot open " << kObjectPath;
  check_object(obj.get());
}

TEST(BpfObject, EmbeddedCopyIsTheBuiltObject) {
  std::ifstream f(kObjectPath, std::ios::binary);
  const std::vector<unsigned char> file((std::istreambuf_iterator<char>(f)),
                                        std::istreambuf_iterator<char>());
  const auto embedded = xnet::bpf::xnet_steer_object();
  ASSERT_EQ(file.size(), embedded.size());
  EXPECT_TRUE(std::equal(file.begin(), file.end(), embedded.begin()));

  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "xnet_steer");
  ObjectPtr obj(bpf_object__open_mem(embedded.data(), embedded.size(), &opts));
  ASSERT_EQ(libbpf_get_error(obj.get()), 0);
  check_object(obj.get());
}

}  // namespace

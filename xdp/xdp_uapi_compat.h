#pragma once
// AF_XDP uapi that Debian's linux-libc-dev 6.1 headers lack. Values and layouts
// are the kernel's (include/uapi/linux/if_xdp.h):
//   - TX metadata (tx_metadata_len, XDP_TX_METADATA, struct xsk_tx_metadata,
//     XDP_TXMD_FLAGS_*, XDP_UMEM_TX_SW_CSUM): Linux 6.8;
//   - XDP_USE_SG and XDP_PKT_CONTD (multi-buffer): Linux 6.6;
//   - XDP_UMEM_TX_METADATA_LEN (tx_metadata_len is ignored without it): Linux 6.11;
//   - XDP_TXMD_FLAGS_LAUNCH_TIME / request.launch_time: Linux 6.14.
// Delete this file once the build headers are >= 6.14.

#include <linux/if_xdp.h>

#include <cstddef>
#include <cstdint>

namespace xnet::xdp::uapi {

// struct xdp_umem_reg as of 6.8. Our own type, so the build does not depend on
// which header version is installed; the kernel accepts its size (32 bytes).
struct UmemReg {
  uint64_t addr;
  uint64_t len;
  uint32_t chunk_size;
  uint32_t headroom;
  uint32_t flags;
  uint32_t tx_metadata_len;
};
static_assert(sizeof(UmemReg) == 32);

inline constexpr uint32_t kUmemUnalignedChunk = 1u << 0;  // XDP_UMEM_UNALIGNED_CHUNK_FLAG
inline constexpr uint32_t kUmemTxSwCsum = 1u << 1;        // XDP_UMEM_TX_SW_CSUM (6.8)
inline constexpr uint32_t kUmemTxMetadataLen = 1u << 2;   // XDP_UMEM_TX_METADATA_LEN (6.11)

// sockaddr_xdp.sxdp_flags
inline constexpr uint16_t kUseSg = 1u << 4;  // XDP_USE_SG (6.6): multi-buffer descriptors

// xdp_desc.options
inline constexpr uint32_t kPktContd = 1u << 0;    // XDP_PKT_CONTD (6.6)
inline constexpr uint32_t kTxMetadata = 1u << 1;  // XDP_TX_METADATA (6.8)

// struct xsk_tx_metadata.flags
inline constexpr uint64_t kTxmdTimestamp = 1u << 0;   // XDP_TXMD_FLAGS_TIMESTAMP
inline constexpr uint64_t kTxmdChecksum = 1u << 1;    // XDP_TXMD_FLAGS_CHECKSUM
inline constexpr uint64_t kTxmdLaunchTime = 1u << 2;  // XDP_TXMD_FLAGS_LAUNCH_TIME (6.14)

// struct xsk_tx_metadata (6.14 layout). It sits tx_metadata_len bytes in front
// of the packet data that a TX descriptor points at.
struct TxMetadata {
  uint64_t flags;
  union {
    struct {
      uint16_t csum_start;   // from the packet data (desc.addr)
      uint16_t csum_offset;  // from csum_start: where the 16-bit result goes
      uint32_t pad;
      uint64_t launch_time;
    } request;
    struct {
      uint64_t tx_timestamp;
    } completion;
  };
};
static_assert(sizeof(TxMetadata) == 24);
static_assert(offsetof(TxMetadata, request.csum_start) == 8);

// tx_metadata_len we register: the whole struct, a multiple of 8 as required.
inline constexpr uint32_t kTxMetadataLen = sizeof(TxMetadata);

}  // namespace xnet::xdp::uapi

#include "stack/wire/error.h"

namespace xnet::wire {

const char* to_string(WireError e) {
  switch (e) {
    case WireError::kTruncated: return "truncated";
    case WireError::kBadVersion: return "bad version";
    case WireError::kBadHeaderLength: return "bad header length";
    case WireError::kBadLength: return "bad length";
    case WireError::kBadChecksum: return "bad checksum";
    case WireError::kUnsupported: return "unsupported";
    case WireError::kMalformed: return "malformed";
  }
  return "unknown";
}

}  // namespace xnet::wire

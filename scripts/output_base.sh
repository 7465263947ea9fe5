# Sourced by the scripts that build in an output base of their own (clang,
# fuzz, the consumer workspace). One output base per checkout, as Bazel keys
# its default one: an output base shared by two checkouts keeps runfiles that
# point into whichever checkout built them first, and a test then runs the
# other checkout's files, or none once that checkout is gone.
#   xnet_output_base <kind>  ->  $HOME/.cache/xnet-build/<kind>-<md5 of $PWD>
xnet_output_base() {
  local key
  key=$(printf '%s' "$PWD" | md5sum)
  printf '%s/.cache/xnet-build/%s-%s' "$HOME" "$1" "${key%% *}"
}

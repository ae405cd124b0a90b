# Sourced by build-image.sh and run.sh: podman and buildah settings that work without systemd,
# unless the caller set their own.
_kv_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$_kv_dir/podman/containers.conf}
export CONTAINERS_STORAGE_CONF=${CONTAINERS_STORAGE_CONF:-$_kv_dir/podman/storage.conf}
export KUBEVAULT_IMAGE=${KUBEVAULT_IMAGE:-localhost/kubevault:dev}
unset _kv_dir

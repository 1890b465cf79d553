// The helper pod's defaults, apart from node-pod.ts so that help texts can name
// them without loading kubectl's adapter.

/** Where kube-local-up's short-lived host-network pods run. */
export const NODE_POD_NAMESPACE = 'kube-system';
/** The helper pod's image: it needs cat, ip and zcat. */
export const DEFAULT_NODE_POD_IMAGE = 'busybox:1.36';

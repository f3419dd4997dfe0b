package kubernetes

import "k8s.io/apimachinery/pkg/runtime/schema"

// The Gateway API resources an owned Gateway's tests read.
var gatewayGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}

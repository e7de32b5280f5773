# Workloads declared with the Terraform kubernetes provider, hardened: pinned image, CPU and
# memory limits (map form and block form), no host namespaces, not privileged.
resource "kubernetes_deployment_v1" "billing" {
  metadata {
    name      = "billing"
    namespace = "payments"
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = "billing" }
    }
    template {
      metadata {
        labels = { app = "billing" }
      }
      spec {
        host_network = false
        container {
          name  = "api"
          image = "registry.example.com/billing-api:2.14.1"
          resources {
            limits = {
              cpu    = "500m"
              memory = "256Mi"
            }
          }
          security_context {
            privileged                = false
            allow_privilege_escalation = false
          }
        }
      }
    }
  }
}

resource "kubernetes_pod" "probe" {
  metadata {
    name = "probe"
  }
  spec {
    container {
      name  = "curl"
      image = "curlimages/curl@sha256:4bfa3e2c0164fb103fb9bfd4dc956facce32b6c5d47cc09fcec883ce9535d5ac"
      resources {
        limits {
          cpu    = "100m"
          memory = "32Mi"
        }
      }
    }
  }
}

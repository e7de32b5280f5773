# Terraform kubernetes provider: the sidecar has a CPU limit only, and the pod declares
# no resources at all.
resource "kubernetes_deployment" "search" {
  metadata {
    name = "search"
  }
  spec {
    template {
      metadata {
        labels = { app = "search" }
      }
      spec {
        container {
          name  = "indexer"
          image = "example/indexer:1.2.0"
          resources {
            limits = { cpu = "1", memory = "1Gi" }
          }
        }
        container {
          name  = "log-shipper"
          image = "example/shipper:0.9.3"
          resources {
            limits = { cpu = "50m" }
          }
        }
      }
    }
  }
}

resource "kubernetes_pod_v1" "debug" {
  metadata {
    name = "debug"
  }
  spec {
    container {
      name  = "shell"
      image = "busybox:1.36"
    }
  }
}

# Terraform kubernetes provider: a pod and a deployment on the host PID namespace.
resource "kubernetes_pod_v1" "sniffer" {
  metadata {
    name = "sniffer"
  }
  spec {
    host_pid = true
    container {
      name  = "tcpdump"
      image = "example/tcpdump:4.99"
    }
  }
}

resource "kubernetes_deployment" "ingress" {
  metadata {
    name = "edge"
  }
  spec {
    template {
      metadata {
        labels = { app = "edge" }
      }
      spec {
        host_pid = true
        container {
          name  = "proxy"
          image = "example/proxy:1.0.0"
        }
      }
    }
  }
}

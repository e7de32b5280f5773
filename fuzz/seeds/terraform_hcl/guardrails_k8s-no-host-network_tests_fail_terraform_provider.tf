# Terraform kubernetes provider: a pod and a deployment on the host network.
resource "kubernetes_pod_v1" "sniffer" {
  metadata {
    name = "sniffer"
  }
  spec {
    host_network = true
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
        host_network = true
        container {
          name  = "proxy"
          image = "example/proxy:1.0.0"
        }
      }
    }
  }
}

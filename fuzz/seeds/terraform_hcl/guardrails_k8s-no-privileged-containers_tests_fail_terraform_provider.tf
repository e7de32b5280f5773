# Terraform kubernetes provider: a node agent running privileged.
resource "kubernetes_deployment_v1" "node_agent" {
  metadata {
    name = "node-agent"
  }
  spec {
    template {
      metadata {
        labels = { app = "node-agent" }
      }
      spec {
        container {
          name  = "agent"
          image = "example/agent:5.0.2"
          security_context {
            privileged = true
          }
        }
      }
    }
  }
}

# Terraform kubernetes provider: an untagged image, a :latest image, and an old-style
# deployment whose container sits directly under `template` (no pod spec container found).
resource "kubernetes_pod" "cache" {
  metadata {
    name = "cache"
  }
  spec {
    container {
      name  = "redis"
      image = "redis"
    }
  }
}

resource "kubernetes_deployment_v1" "web" {
  metadata {
    name = "web"
  }
  spec {
    template {
      metadata {
        labels = { app = "web" }
      }
      spec {
        container {
          name  = "nginx"
          image = "nginx:latest"
        }
      }
    }
  }
}

resource "kubernetes_deployment" "legacy" {
  spec {
    template {
      container {
        name  = "app"
        image = "example/app:3.1"
      }
    }
  }
}

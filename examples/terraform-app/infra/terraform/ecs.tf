# The parts of the stack the deploy workflow depends on (one root module, one state per
# environment: infra/terraform/env/<env>.s3.tfbackend). Not a complete stack: VPC, RDS,
# load balancer and the bucket/distribution are elided.

resource "aws_ecs_task_definition" "api" {
  family                   = "orders-${var.environment}-api"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.ecs_execution.arn
  task_role_arn            = aws_iam_role.api_task.arn
  # The first revision only: every later revision is registered by the deploy workflow
  # from infra/taskdef/api.json.
  container_definitions = jsonencode([{ name = "api", image = "${aws_ecr_repository.api.repository_url}:bootstrap", essential = true }])

  lifecycle {
    ignore_changes = [container_definitions]
  }
}

resource "aws_ecs_service" "api" {
  name            = "orders-${var.environment}-api"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.api.arn
  desired_count   = var.environment == "prod" ? 2 : 1
  launch_type     = "FARGATE"

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets         = var.private_subnet_ids
    security_groups = [aws_security_group.api.id]
  }

  # The deploy workflow owns the revision the service runs. Without this, the next
  # `terraform apply` sees a revision it did not register and puts its own back,
  # silently undoing the deploy.
  lifecycle {
    ignore_changes = [task_definition]
  }
}

# The database password: Terraform generates it and stores it in Secrets Manager; ECS
# injects it at task start from the secret's ARN (a reference, never the value).
resource "random_password" "db" {
  length  = 24
  special = false
}

resource "aws_secretsmanager_secret" "db_password" {
  name = "orders/${var.environment}/db-password"
}

resource "aws_secretsmanager_secret_version" "db_password" {
  secret_id     = aws_secretsmanager_secret.db_password.id
  secret_string = random_password.db.result
}

# What the deploy workflows read from `terraform output -json` (tf-outputs/<env>/tf.json
# in this example is exactly what it prints). The template names these as ${tf:NAME}.
output "api_family" { value = aws_ecs_task_definition.api.family }
output "api_log_group" { value = aws_cloudwatch_log_group.api.name }
output "api_security_group_id" { value = aws_security_group.api.id }
output "api_task_role_arn" { value = aws_iam_role.api_task.arn }
output "api_url" { value = "https://${aws_route53_record.api.fqdn}" }
output "cloudfront_distribution_id" { value = aws_cloudfront_distribution.web.id }
output "db_host" { value = aws_rds_cluster.main.endpoint }
output "db_password_secret_arn" { value = aws_secretsmanager_secret.db_password.arn } # a reference, not the password
output "ecr_repository_url" { value = aws_ecr_repository.api.repository_url }
output "ecs_cluster_name" { value = aws_ecs_cluster.main.name }
output "ecs_execution_role_arn" { value = aws_iam_role.ecs_execution.arn }
output "ecs_service_name" { value = aws_ecs_service.api.name }
output "jwt_secret_arn" { value = aws_secretsmanager_secret.jwt.arn }
output "private_subnet_ids" { value = var.private_subnet_ids }
output "site_bucket" { value = aws_s3_bucket.web.bucket }
output "site_domain" { value = aws_route53_record.web.fqdn }

# Sensitive outputs other tooling of the team reads. render-taskdef masks every string
# in them before anything else runs, and refuses them anywhere in a task definition but
# a secret's valueFrom; the template does not use them.
output "db_master_password" {
  value     = random_password.db.result
  sensitive = true
}

output "db_admin" {
  value     = { username = aws_rds_cluster.main.master_username, password = random_password.db_admin.result, port = aws_rds_cluster.main.port }
  sensitive = true
}

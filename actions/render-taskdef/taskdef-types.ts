/** The task-definition shapes render-taskdef works on: loose, since a template is checked against the ECS API shapes after rendering. */
export interface NameValue {
  name: string;
  value?: string;
  valueFrom?: string;
}

export interface ContainerDef {
  name?: unknown;
  image?: unknown;
  essential?: unknown;
  environment?: NameValue[];
  secrets?: NameValue[];
  [key: string]: unknown;
}

export interface TaskDef {
  family?: unknown;
  containerDefinitions: ContainerDef[];
  [key: string]: unknown;
}

/**
 * The readable diff between two task definitions, line by line: each top-level field, containers
 * added, removed and changed, variable and secret names (never values), and the "also changed" lists.
 */
import { describe, expect, it } from 'vitest';
import { diffTaskDefinitions } from '../../lib/taskdef-diff.js';

const def = (over: Record<string, unknown> = {}, container: Record<string, unknown> = {}) =>
  ({
    family: 'api',
    cpu: '256',
    memory: '512',
    networkMode: 'awsvpc',
    containerDefinitions: [{ name: 'api', image: 'repo/api:1', essential: true, ...container }],
    ...over,
  }) as never;

describe('diffTaskDefinitions', () => {
  it('identical definitions: no lines', () => {
    expect(diffTaskDefinitions(def(), def())).toEqual([]);
  });

  it('each top-level field, with (none) for a missing one', () => {
    const before = def({ taskRoleArn: 'role/a', executionRoleArn: 'role/x' });
    const after = def({ cpu: '512', memory: '1024', taskRoleArn: undefined, executionRoleArn: 'role/y', networkMode: 'bridge' });
    expect(diffTaskDefinitions(before, after)).toEqual([
      'cpu: 256 → 512',
      'memory: 512 → 1024',
      'taskRoleArn: role/a → (none)',
      'executionRoleArn: role/x → role/y',
      'networkMode: awsvpc → bridge',
    ]);
    expect(diffTaskDefinitions(def({ taskRoleArn: undefined }), def({ taskRoleArn: 'role/b' }))).toEqual(['taskRoleArn: (none) → role/b']);
  });

  it('containers added and removed, by name', () => {
    const two = def({
      containerDefinitions: [
        { name: 'api', image: 'repo/api:1', essential: true },
        { name: 'log', image: 'repo/log:2', essential: true },
      ],
    });
    expect(diffTaskDefinitions(def(), two)).toEqual(['container log: added (image repo/log:2)']);
    expect(diffTaskDefinitions(two, def())).toEqual(['container log: removed']);
  });

  it('a container: image, cpu, memory and memoryReservation, with (none)', () => {
    const lines = diffTaskDefinitions(
      def({}, { cpu: 128, memoryReservation: 64 }),
      def({}, { image: 'repo/api:2', memory: 256, memoryReservation: 128 }),
    );
    expect(lines).toEqual([
      'container api image: repo/api:1 → repo/api:2',
      'container api cpu: 128 → (none)',
      'container api memory: (none) → 256',
      'container api memoryReservation: 64 → 128',
    ]);
  });

  it('variable and secret names added, removed and changed; values never shown', () => {
    const before = def(
      {},
      {
        environment: [
          { name: 'A', value: 'a1' },
          { name: 'B', value: 'b' },
          { name: 'E', value: 'same' },
        ],
        secrets: [
          { name: 'S', valueFrom: '/s/1' },
          { name: 'T', valueFrom: '/t' },
        ],
      },
    );
    const after = def(
      {},
      {
        environment: [{ name: 'A', value: 'a2' }, { name: 'C', value: 'c' }, { name: 'D' }, { name: 'E', value: 'same' }],
        secrets: [
          { name: 'S', valueFrom: '/s/2' },
          { name: 'U', valueFrom: '/u' },
        ],
      },
    );
    const lines = diffTaskDefinitions(before, after);
    expect(lines).toEqual([
      'container api env added: C, D',
      'container api env removed: B',
      'container api env changed: A',
      'container api secrets added: U',
      'container api secrets removed: T',
      'container api secrets changed: S',
    ]);
    expect(lines.join('\n')).not.toMatch(/a1|a2|\/s\//);
  });

  it('several names are listed with commas; a list on one side only is all added or all removed', () => {
    const before = def(
      {},
      {
        environment: [
          { name: 'A', value: '1' },
          { name: 'B', value: '1' },
          { name: 'C', value: '1' },
          { name: 'D', value: '1' },
        ],
      },
    );
    const after = def(
      {},
      {
        environment: [
          { name: 'C', value: '2' },
          { name: 'D', value: '2' },
        ],
        secrets: [{ name: 'S', valueFrom: '/s' }],
      },
    );
    expect(diffTaskDefinitions(before, after)).toEqual([
      'container api env removed: A, B',
      'container api env changed: C, D',
      'container api secrets added: S',
    ]);
  });

  it('a definition without containers on one side: each container of the other is added', () => {
    expect(diffTaskDefinitions(def({ containerDefinitions: [] }), def())).toEqual(['container api: added (image repo/api:1)']);
  });

  it('a variable without a value reads as an empty one', () => {
    expect(diffTaskDefinitions(def({}, { environment: [{ name: 'A', value: '' }] }), def({}, { environment: [{ name: 'A' }] }))).toEqual(
      [],
    );
  });

  it('any other changed key of a container or of the task is listed by name', () => {
    const lines = diffTaskDefinitions(
      def({ pidMode: 'task' }, { command: ['a'], dockerLabels: { x: '1' } }),
      def({ ipcMode: 'host' }, { command: ['b'], dockerLabels: { x: '1' }, workingDirectory: '/app' }),
    );
    expect(lines).toEqual(['container api also changed: command, workingDirectory', 'also changed: pidMode, ipcMode']);
  });

  it('says so when there is no previous revision', () => {
    expect(diffTaskDefinitions(undefined, def())).toEqual(['new family (no previous revision)']);
  });
});

import type { NodeContext, PlanNode } from '../runtime/context.js';
import type { HostTensor } from '../runtime/host-tensor.js';
import type { RuntimeValue } from '../runtime/values.js';

/** How one ONNX operator runs. */
export interface OpDefinition {
  /**
   * Input slots read on the host (shapes, axes, pads, scales): constants feeding them are never
   * uploaded to the device.
   */
  readonly hostInputs?: readonly number[];
  /** Rejects, at load time, attribute values the implementation cannot honour. */
  readonly validate?: (node: PlanNode, opset: number) => void;
  /**
   * Evaluates on the host. Called when every input is a host value (shape arithmetic, constant
   * folding); returns undefined to let {@link device} do it instead.
   */
  readonly host?: (
    node: PlanNode,
    inputs: readonly (HostTensor | undefined)[],
    opset: number,
  ) => HostTensor[] | undefined;
  /** Evaluates with TensorFlow.js. Runs inside a tidy scope: temporaries need no disposal. */
  readonly device: (ctx: NodeContext) => RuntimeValue[];
}

export type OpTable = Readonly<Record<string, OpDefinition>>;

import { SgenetError } from '@sgenet/core';

/**
 * The model uses an ONNX operator (or an attribute value of one) that this backend cannot run.
 * `code` is `ERR_SGENET_UNSUPPORTED_OP`; `opType` names the operator. Thrown when the model is
 * loaded, before anything runs. The ONNX Runtime backend (`@sgenet/ort-backend`) runs every op.
 */
export class UnsupportedOpError extends SgenetError {
  /** The ONNX op type, e.g. `Einsum`. */
  readonly opType: string;
  /** The node that uses it (its name, or its first output when unnamed). */
  readonly nodeName: string;
  constructor(opType: string, nodeName: string, detail?: string) {
    super(
      'ERR_SGENET_UNSUPPORTED_OP',
      detail
        ? `The ${opType} node "${nodeName}" ${detail}, which the tfjs backend does not support; ` +
            'use the ort backend for this model'
        : `The ONNX op ${opType} (node "${nodeName}") is not supported by the tfjs backend; ` +
            'use the ort backend for this model, or re-export it without that op',
    );
    this.opType = opType;
    this.nodeName = nodeName;
  }
}
